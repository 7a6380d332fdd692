"""Joint testing (联调测试): a test plan per connection, its report, and the go-live gate."""
