package conformance_test

import (
	"testing"

	"github.com/vigilmon/vigil/internal/testplugins"
)

func TestMain(m *testing.M) { testplugins.VerifyTestMain(m) }
