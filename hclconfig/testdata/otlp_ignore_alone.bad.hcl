otlp {
  ignore_resource_attributes = ["process.pid"]
}
