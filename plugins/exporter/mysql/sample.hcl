# The MySQL exporter plugin collecting a MySQL or MariaDB server every 15s,
# as the job "mysql". A source that is a bare file name is looked for in the
# config file's folder, beside the vigil program (where make plugins puts
# the first-party plugins) and on PATH.

plugin "mysql" {
  source = "vigil-exporter-mysql" # beside vigil (make plugins), on PATH, or a path
}

exporter "mysql" {
  plugin   = "mysql"
  interval = "15s"

  config {
    address  = "127.0.0.1:3306" # or the server's socket, "/run/mysqld/mysqld.sock"
    user     = "exporter"
    password = env("MYSQL_EXPORTER_PASSWORD")
  }
}
