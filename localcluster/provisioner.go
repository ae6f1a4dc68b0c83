package localcluster

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// provisionedByAnnotation marks the volumes the provisioner made, so it only ever deletes
// its own.
const provisionedByAnnotation = "localcluster.gitops-agent.io/provisioned-for"

// runProvisioner plays the storage provisioner a real cluster would have: for every pending
// claim it creates a volume of the claim's class and size, pre-bound to the claim, and it
// deletes those volumes once released. kwok nodes never mount anything, so the volume's source
// is irrelevant; without it, a StatefulSet with volumeClaimTemplates never gets a pod scheduled.
func runProvisioner(ctx context.Context, cs kubernetes.Interface, log *slog.Logger) {
	factory := informers.NewSharedInformerFactory(cs, 10*time.Minute)
	claims := factory.Core().V1().PersistentVolumeClaims().Informer()
	volumes := factory.Core().V1().PersistentVolumes().Informer()
	provision := func(obj any) {
		pvc, ok := obj.(*corev1.PersistentVolumeClaim)
		if !ok || pvc.Spec.VolumeName != "" || pvc.Status.Phase != corev1.ClaimPending || pvc.DeletionTimestamp != nil {
			return
		}
		if err := createVolumeFor(ctx, cs, pvc); err != nil && ctx.Err() == nil {
			log.Warn("local cluster: provision volume", "claim", pvc.Namespace+"/"+pvc.Name, "error", err)
		}
	}
	reclaim := func(obj any) {
		pv, ok := obj.(*corev1.PersistentVolume)
		if !ok || pv.Annotations[provisionedByAnnotation] == "" {
			return
		}
		if pv.Status.Phase != corev1.VolumeReleased && pv.Status.Phase != corev1.VolumeFailed {
			return
		}
		err := cs.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) && ctx.Err() == nil {
			log.Warn("local cluster: delete released volume", "volume", pv.Name, "error", err)
		}
	}
	_, _ = claims.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    provision,
		UpdateFunc: func(_, obj any) { provision(obj) },
	})
	_, _ = volumes.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    reclaim,
		UpdateFunc: func(_, obj any) { reclaim(obj) },
	})
	factory.Start(ctx.Done())
	<-ctx.Done()
	factory.Shutdown()
}

func createVolumeFor(ctx context.Context, cs kubernetes.Interface, pvc *corev1.PersistentVolumeClaim) error {
	size, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	if !ok {
		size = resource.MustParse("1Gi")
	}
	class := ""
	if pvc.Spec.StorageClassName != nil {
		class = *pvc.Spec.StorageClassName
	}
	accessModes := pvc.Spec.AccessModes
	if len(accessModes) == 0 {
		accessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	}
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:        "pv-" + string(pvc.UID),
			Annotations: map[string]string{provisionedByAnnotation: pvc.Namespace + "/" + pvc.Name},
		},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes:                   accessModes,
			StorageClassName:              class,
			VolumeMode:                    pvc.Spec.VolumeMode,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: "/var/lib/localcluster/volumes/" + string(pvc.UID)},
			},
			ClaimRef: &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID},
		},
	}
	_, err := cs.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create volume for claim %s/%s: %w", pvc.Namespace, pvc.Name, err)
	}
	return nil
}
