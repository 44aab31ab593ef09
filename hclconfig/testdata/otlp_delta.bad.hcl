otlp {
  delta = "keep"
}
