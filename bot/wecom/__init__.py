"""WeCom (企业微信) self-built app for staff: callbacks, task cards with buttons, app and group messages."""
