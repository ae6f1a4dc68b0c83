# syntax=docker/dockerfile:1
# The gitops-agent image, for those with a container engine: docker build -t IMAGE:TAG \
#   --build-arg VERSION=$(git describe --tags --always) --build-arg REVISION=$(git rev-parse HEAD) .
# Without one, `make image` builds the same layout with deploy/image (README, Install in a cluster).

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
ARG TARGETOS=linux
ARG TARGETARCH
ARG VERSION=dev
ENV GOTOOLCHAIN=local CGO_ENABLED=0
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/usr/local/bin/gitops-agent ./cmd/gitops-agent && \
    mkdir -p /out/var/cache/gitops-agent /out/repo

# distroless/static: CA certificates, tzdata, /etc/passwd with nonroot (65532), no shell.
FROM gcr.io/distroless/static:nonroot
ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE=https://github.com/gitops-agent/gitops-agent
LABEL org.opencontainers.image.title="gitops-agent" \
      org.opencontainers.image.description="GitOps reconciler for Kubernetes: renders, validates and applies per-environment kustomize overlays" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}"
COPY --from=build /out/usr/local/bin/gitops-agent /usr/local/bin/gitops-agent
# The configuration's default repo.cacheDir, writable where nothing is mounted on it.
COPY --from=build --chown=65532:65532 /out/var/cache/gitops-agent /var/cache/gitops-agent
# Mount a checkout here and `check` finds it: docker run -v "$PWD:/repo" IMAGE check
COPY --from=build /out/repo /repo
USER 65532:65532
WORKDIR /repo
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/gitops-agent"]
CMD ["run", "--config", "/etc/gitops-agent/agent.yaml"]
