server {
  remote_read_max_bytes_in_frame = "0B"
}
