otlp {
  promote_all_resource_attributes = true
  promote_resource_attributes     = ["service.name"]
}
