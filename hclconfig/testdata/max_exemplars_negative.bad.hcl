server {
  max_exemplars = -1
}
