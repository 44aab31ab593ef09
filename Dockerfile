# Vigil's container image: the vigil binary and the first-party plugins.
#
#   docker build -t vigil .
#   docker run -p 9090:9090 -v vigil-data:/data vigil
#
# The version is git describe's when the build context holds the git
# history; otherwise give it: --build-arg VERSION=v1.2.0 --build-arg REVISION=<commit>.

# Build stage: the Makefile's targets, as on a developer's machine. The
# binaries are static (no cgo), so that the runtime image needs no libc.
FROM golang:1.26 AS build
ENV CGO_ENABLED=0
WORKDIR /src
COPY go.mod go.sum ./
COPY sdk/go.mod sdk/go.sum sdk/
COPY plugins/exporter/windows/go.mod plugins/exporter/windows/go.sum plugins/exporter/windows/
RUN go mod download && (cd sdk && go mod download) && cd plugins/exporter/windows && go mod download
COPY . .
ARG VERSION
ARG REVISION
# make plugins also cross-builds the Windows exporter, for Windows only:
# the image leaves it out.
RUN make build plugins ${VERSION:+VERSION="$VERSION"} ${REVISION:+REVISION="$REVISION"} \
 && rm bin/vigil-exporter-windows.exe \
 && mkdir -p /out/plugins /out/data \
 && mv bin/vigil /out/vigil \
 && mv bin/vigil-* /out/plugins/

# Runtime stage: a static base image with CA certificates, time zones, /tmp
# (where plugins' sockets go) and a non-root user, nonroot (65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/vigil /usr/local/bin/vigil
# The plugins sit beside vigil, where a configuration's bare plugin source,
# such as source = "vigil-exporter-node", finds them.
COPY --from=build /out/plugins/ /usr/local/bin/
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
VOLUME ["/data"]
EXPOSE 9090
# Arguments to docker run are added: --config /etc/vigil/vigil.hcl, with
# the file mounted there. Without one, the server scrapes itself.
ENTRYPOINT ["/usr/local/bin/vigil", "server", "--listen", "0.0.0.0:9090", "--data", "/data"]
