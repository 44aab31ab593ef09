scrape "self" {
  targets      = ["127.0.0.1:9090"]
  bearer_token = env("VIGIL_TEST_SURELY_UNSET")
}
