rule_files = ["badrules/expr.yml"]
