otlp {
  translation_strategy = "Underscores"
}
