"""WeChat official account (residents): callbacks, passive replies, customer-service and template messages.

Also the parts bot.wecom shares: safe XML, signatures, the DB-cached access token, quotas,
and the 5-second callback runner.
"""
