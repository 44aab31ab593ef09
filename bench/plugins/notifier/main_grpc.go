//go:build !wasip1

package main

import (
	"net/http"

	"github.com/vigilmon/vigil/sdk"
)

func main() { sdk.Serve(newPlugin(&http.Client{})) }
