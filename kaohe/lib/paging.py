"""How many rows a list shows at once.

One figure for every paginated list (issue 19): a page costs about as much as the rows it
renders, and 20 rows is what the officials' other systems show ("每页 20 条"). Filters and
exports still cover every row; only the screen is paged.
"""

ROWS = 20
