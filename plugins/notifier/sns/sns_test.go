package main

import (
	"net/url"
	"strings"
	"testing"

	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/internal/testreceiver"
	"github.com/vigilmon/vigil/plugins/notifier/internal/amnotify/amnotifytest"
)

func TestMain(m *testing.M) { testplugins.VerifyTestMain(m) }

// TestModule drives the module through the host against a local SNS
// endpoint: the request is a Publish action signed with Signature
// Version 4.
func TestModule(t *testing.T) {
	amnotifytest.Module{
		Package: "plugins/notifier/sns", Plugin: snsPlugin, SecretAttribute: "secret_key",
		Config: func(base string) map[string]any {
			return map[string]any{"api_url": base, "region": "eu-west-1", "access_key": "AKIDEXAMPLE", "secret_key": amnotifytest.Secret,
				"topic_arn": "arn:aws:sns:eu-west-1:123456789012:alerts.fifo", "attributes": map[string]string{"team": "ops"}}
		},
		Bad: map[string]any{"topic_arn": ""}, BadAttribute: "topic_arn",
		Answer: `<PublishResponse><PublishResult><MessageId>1</MessageId></PublishResult></PublishResponse>`,
		Check: func(t *testing.T, r testreceiver.Request) {
			form, err := url.ParseQuery(string(r.Body))
			if err != nil {
				t.Fatal(err)
			}
			auth := r.Header.Get("Authorization")
			if r.Path != "/" || form.Get("Action") != "Publish" || form.Get("TopicArn") != "arn:aws:sns:eu-west-1:123456789012:alerts.fifo" ||
				len(form.Get("MessageGroupId")) != 64 || form.Get("MessageAttributes.entry.1.Name") != "team" ||
				form.Get("MessageAttributes.entry.1.Value.StringValue") != "ops" || !strings.Contains(form.Get("Message"), "host:9100 is down") ||
				!strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || !strings.Contains(auth, "/eu-west-1/sns/aws4_request") ||
				r.Header.Get("X-Amz-Date") == "" || strings.Contains(auth, amnotifytest.Secret) {
				t.Errorf("%s %s %v\n%s", r.Method, r.Path, r.Header, r.Body)
			}
		},
	}.Run(t)
}

// TestSample configures the plugin with sample.hcl.
func TestSample(t *testing.T) {
	amnotifytest.Sample(t, snsPlugin, "sns.eu-west-1.amazonaws.com", map[string]string{"AWS_SECRET_ACCESS_KEY": "s"})
}

// TestSMS cuts a message to a phone number at 1600 bytes and says so in
// an attribute.
func TestSMS(t *testing.T) {
	values, err := snsPlugin.Schema.Values(map[string]any{"region": "eu-west-1", "access_key": "a", "secret_key": "s", "phone_number": "+15555550100",
		"message": `{{ printf "%2000s" "x" }}`})
	if err != nil {
		t.Fatal(err)
	}
	s, err := newSNS(values)
	if err != nil {
		t.Fatal(err)
	}
	form, err := s.form(amnotifytest.Notification("firing"))
	if err != nil || len(form.Get("Message")) != maxSMSMessage || form.Get("MessageAttributes.entry.1.Name") != "truncated" ||
		form.Get("PhoneNumber") != "+15555550100" || s.url != "https://sns.eu-west-1.amazonaws.com/" {
		t.Errorf("%v %v", form, err)
	}
}
