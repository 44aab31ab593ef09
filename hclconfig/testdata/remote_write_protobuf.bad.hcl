remote_write "mimir" {
  url              = "https://mimir.example.com/api/v1/push"
  protobuf_message = "prometheus.WriteRequestV2"
}
