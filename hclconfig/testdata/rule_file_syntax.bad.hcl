rule_files = ["badrules/syntax.yml"]
