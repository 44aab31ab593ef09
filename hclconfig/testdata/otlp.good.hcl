server {
  enable_otlp_receiver = true
  otlp_body_size_limit = "8MB"
}

otlp {
  promote_resource_attributes              = ["service.instance.id", "k8s.namespace.name"]
  translation_strategy                     = "NoUTF8EscapingWithSuffixes"
  keep_identifying_resource_attributes     = true
  convert_histograms_to_nhcb               = true
  promote_scope_metadata                   = true
  label_name_underscore_sanitization       = false
  label_name_preserve_multiple_underscores = false
  delta                                    = "convert"
}
