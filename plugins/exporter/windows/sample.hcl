# The Windows exporter plugin collecting the host's statistics every 15s,
# as the job "windows", with windows_exporter's cpu, cs, logical_disk,
# memory, net, os, service and system collectors. A source that is a bare
# file name is looked for in the config file's folder, beside the vigil
# program (where make plugins puts the first-party plugins) and on PATH,
# so this file validates where it sits and wherever it is copied.

plugin "windows" {
  source = "vigil-exporter-windows.exe" # beside vigil.exe (make plugins), on PATH, or a path
}

exporter "windows" {
  plugin   = "windows"
  interval = "15s"

  config {
    # The services to report: without a clause, every service on the host.
    service_services_where = "StartMode='Auto'"
    # Leave out the volumes Windows mounts without a drive letter.
    logical_disk_volume_exclude = "HarddiskVolume.*"
    # Leave out the virtual network adapters of Hyper-V and containers.
    net_nic_exclude = "(?i).*(vEthernet|isatap|Teredo).*"
  }
}
