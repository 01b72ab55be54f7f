# shellcheck shell=bash
# Sourced by the container scripts (scripts/images, scripts/container-base,
# test/containers/run). Chooses the container engine and the flags it needs.
#
#   engine_detect   sets ENGINE (array: the command and its global flags),
#                   ENGINE_NAME (docker | podman) and BUILD_FLAGS (array);
#                   returns 1 when no usable engine is present.
#
# CONTAINER_ENGINE=docker|podman forces one. docker counts only when its
# daemon answers (a docker CLI without a daemon is not an engine). podman runs
# daemonless; PODMAN_FLAGS (default: runc as the OCI runtime, cgroupfs as the
# cgroup manager, which work as root without systemd) go before every podman
# subcommand. IMAGE_BUILD_NETWORK (default "host" for podman, unset for
# docker) is passed as `build --network`, so RUN steps reach the Debian mirror
# the way the host does.

engine_detect() {
	local want=${CONTAINER_ENGINE:-}
	ENGINE=()
	ENGINE_NAME=""
	BUILD_FLAGS=()
	if { [ -z "$want" ] || [ "$want" = docker ]; } && command -v docker >/dev/null 2>&1 &&
		timeout 20 docker info >/dev/null 2>&1; then
		ENGINE=(docker)
		ENGINE_NAME=docker
	elif { [ -z "$want" ] || [ "$want" = podman ]; } && command -v podman >/dev/null 2>&1; then
		local flags=${PODMAN_FLAGS-}
		if [ -z "${PODMAN_FLAGS+set}" ]; then
			flags="--cgroup-manager cgroupfs"
			command -v runc >/dev/null 2>&1 && flags="--runtime runc $flags"
		fi
		# shellcheck disable=SC2206 # word splitting of the flag list is intended
		ENGINE=(podman $flags)
		ENGINE_NAME=podman
	else
		return 1
	fi
	# podman writes OCI images by default, which have no HEALTHCHECK; the docker
	# format keeps it (ECS ignores it, but `docker run` uses it).
	[ "$ENGINE_NAME" != podman ] || BUILD_FLAGS+=(--format docker)
	local net=${IMAGE_BUILD_NETWORK-}
	[ -n "${IMAGE_BUILD_NETWORK+set}" ] || { [ "$ENGINE_NAME" = podman ] && net=host; }
	[ -z "$net" ] || BUILD_FLAGS+=(--network "$net")
	return 0
}

# True when the image (name:tag) exists locally.
engine_has_image() {
	"${ENGINE[@]}" image inspect "$1" >/dev/null 2>&1
}

# Size in bytes of a local image, as the engine reports it (uncompressed layers).
engine_image_size() {
	"${ENGINE[@]}" image inspect --format '{{.Size}}' "$1"
}

# The names the Dockerfiles build FROM: docker.io/library/debian:bookworm-slim.
BASE_IMAGE=${BASE_IMAGE:-docker.io/library/debian:bookworm-slim}

# Image names and tags made by scripts/images.
DAEMON_IMAGE=${DAEMON_IMAGE:-photofinish/photofinishd}
GALLERY_IMAGE=${GALLERY_IMAGE:-photofinish/gallery}
