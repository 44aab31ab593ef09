otlp {
  promote_resource_attributes = ["host.name", "region", "host.name"]
}
