"""Time logs per pilot site (issue 6): entries, activities, weekly timesheets, rates and reimbursement."""
