# A store encrypted at rest, with a throwaway key for this test.
server {
  encryption_key_file = "encryption.key"
}
