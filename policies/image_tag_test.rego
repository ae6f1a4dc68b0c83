package image_tag_test

import data.gitops.testlib

unpinned_images := {
	"nginx",
	"nginx:latest",
	"registry.example.com:5000/shop/api",
	"registry.example.com:5000/shop/api:latest",
	"localhost:5000/api",
	"ghcr.io/acme/api",
}

pinned_images := {
	"nginx:1.27.2",
	"registry.example.com:5000/shop/api:1.4.2",
	"ghcr.io/acme/api:v2",
	"nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31",
	"nginx:latest@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31",
	"registry.example.com:5000/api@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31",
}

deployment_with_image(image) := testlib.with_container(testlib.deployment, testlib.patched_container({"image": image}, []))

test_image_tag_denies_missing_and_latest_tags if {
	wrong := {image |
		some image in unpinned_images
		testlib.fields(testlib.deny(deployment_with_image(image), "image-tag")) != {"spec.template.spec.containers[name=api].image"}
	}
	print("not denied:", wrong)
	wrong == set()
}

test_image_tag_allows_tags_and_digests if {
	wrong := {image |
		some image in pinned_images
		count(testlib.deny(deployment_with_image(image), "image-tag")) != 0
	}
	print("denied:", wrong)
	wrong == set()
}

test_image_tag_message_says_what_is_wrong if {
	contains(testlib.messages(testlib.deny(deployment_with_image("nginx"), "image-tag")), "has no tag")
	contains(testlib.messages(testlib.deny(deployment_with_image("nginx:latest"), "image-tag")), "latest")
}

test_image_tag_checks_init_containers if {
	d := testlib.with_pod_spec(testlib.deployment, {"initContainers": [{"name": "migrate", "image": "migrate"}]})
	testlib.fields(testlib.deny(d, "image-tag")) == {"spec.template.spec.initContainers[name=migrate].image"}
}
