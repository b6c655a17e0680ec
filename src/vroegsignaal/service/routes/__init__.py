"""One router per resource; each route translates HTTP to one service call and back."""
