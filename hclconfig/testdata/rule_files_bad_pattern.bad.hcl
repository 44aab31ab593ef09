rule_files = ["rules/[.yml"]
