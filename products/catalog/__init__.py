"""The catalog in bulk: files of products and their tracks (CSV, NDJSON, DDEX ERN) read
into an organization's catalog with the API's rules, and written back out."""
