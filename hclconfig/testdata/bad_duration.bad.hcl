global {
  scrape_interval = "fifteen seconds"
}
