server {
  series_idle_timeout = "-2h"
}
