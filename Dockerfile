# syntax=docker/dockerfile:1
FROM golang:1.26-alpine AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/sorabot ./cmd/sorabot \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/sorabot /sorabot
COPY --from=build --chown=nonroot:nonroot /out/data /data
ENV SORABOT_DB=/data/sorabot.db SORABOT_HTTP_ADDR=0.0.0.0:8080
VOLUME /data
WORKDIR /data
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/sorabot"]
CMD ["serve"]
