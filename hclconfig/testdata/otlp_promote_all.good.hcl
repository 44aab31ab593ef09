otlp {
  promote_all_resource_attributes = true
  ignore_resource_attributes      = ["process.pid", "host.id"]
}
