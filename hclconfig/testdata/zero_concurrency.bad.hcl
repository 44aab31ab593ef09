query {
  max_concurrency = 0
}
