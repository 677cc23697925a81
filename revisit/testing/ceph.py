"""Placeholder: the Ceph RGW fixture module (filled in with the S3 blob store)."""
