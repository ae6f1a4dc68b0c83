package kubernetes

deny contains "ConfigMaps are checked by the kubernetes package" if input.kind == "ConfigMap"
