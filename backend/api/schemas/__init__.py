"""Request and response schemas, split by purpose (Create / Update / Public); no ORM object leaves the API."""
