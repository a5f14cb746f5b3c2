"""Policy guarantee loans (R10, 政策性融资担保贷款): recorded against a project, moving no money in our ledger."""
