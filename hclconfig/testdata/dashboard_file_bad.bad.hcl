dashboard_files = ["baddashboards/*.hcl"]
