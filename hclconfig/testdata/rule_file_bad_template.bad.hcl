rule_files = ["badrules/template.yml"]
