alertmanager {
  urls = []
}
