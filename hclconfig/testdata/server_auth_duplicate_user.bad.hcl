server {
  auth {
    user "alice" {
      password_hash = "$2a$10$75Np6JbcU.LLM7HKi2RJmuvREsDd0D.L7KP3Ko0EWgvLrtMSoUAg."
      role          = "viewer"
    }
    user "alice" {
      password_hash = "$2a$10$75Np6JbcU.LLM7HKi2RJmuvREsDd0D.L7KP3Ko0EWgvLrtMSoUAg."
      role          = "admin"
    }
  }
}
