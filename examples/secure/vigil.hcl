# A server that answers only HTTPS and asks who calls it, made for
# trying Vigil's security and for testing it. The certificates, keys and
# token beside this file are throwaway ones, published with Vigil: anyone
# can read them, so never use them for anything that matters. README.md
# says how to try it; go run ./gencerts makes new certificates.
#
#   vigil server --config examples/secure/vigil.hcl --data ./data-secure

server {
  listen = "127.0.0.1:9443"

  # HTTPS only. A client trusts ca.pem; one that shows a certificate of
  # this authority (client.pem) is named by it in the audit log.
  tls {
    cert_file        = "server.pem"
    key_file         = "server-key.pem"
    client_auth_type = "VerifyClientCertIfGiven"
    client_ca_file   = "ca.pem"
  }

  # POST /-/reload reloads, for operators and admins.
  enable_lifecycle = true

  # Every request needs one of these. alice and bob are viewers, each
  # confined to their team's series.
  auth {
    user "alice" {
      password_hash = "$2a$10$WSY4ZeYiSPFaD7EpGZI7A.zI6EcRauEacn1g5UngspKbq38dY9es2" # alice-pass
      role          = "viewer"
      matchers      = ["team=\"a\""]
    }
    user "bob" {
      password_hash = "$2a$10$lMiVCjFKDpIptuas9oHhJ.AElHlgz5dA2hsshluTVtYq/pE6BRvpW" # bob-pass
      role          = "viewer"
      matchers      = ["team=\"b\""]
    }
    user "ops" {
      password_hash = "$2a$10$bSe4N6rS7xp1ai4I8hIguuRzROEY10I/v.akXglaDeT.9k5lWLzOW" # ops-pass
      role          = "admin"
    }
    # The token the scrapes below send, from scraper.token: only its
    # SHA-256 is here (vigil hash-password --token < scraper.token).
    token "scraper" {
      sha256 = "e46693620fb23c87ac4167aecdb6bf39644502125b3953f8c7cce247879538fd"
      role   = "viewer"
    }
  }

  # Each change (silences, alerts, reloads, admin calls, writes) is a
  # JSON line in audit.log, in the data folder.
  audit {
    file = "audit.log"
  }
}

global {
  scrape_interval = "15s"
}

# The server scrapes itself twice, as two teams' jobs.
scrape "a" {
  targets      = ["127.0.0.1:9443"]
  scheme       = "https"
  bearer_token = file("scraper.token")
  tls {
    ca_file = "ca.pem"
  }
  relabel {
    target_label = "team"
    replacement  = "a"
  }
}

scrape "b" {
  targets      = ["127.0.0.1:9443"]
  scheme       = "https"
  bearer_token = file("scraper.token")
  tls {
    ca_file = "ca.pem"
  }
  relabel {
    target_label = "team"
    replacement  = "b"
  }
}
