package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/vigilmon/vigil/plugins/notifier/internal/amnotify"
	"github.com/vigilmon/vigil/sdk"
)

// SNS's limits on a message, in bytes.
const (
	maxMessage    = 256 * 1024
	maxSMSMessage = 1600
)

var snsPlugin = sdk.Plugin{
	Info: sdk.Info{
		Name:         "sns",
		Version:      "0.1.0",
		Description:  "Publishes notifications to Amazon SNS, as Alertmanager's SNS receiver does.",
		Capabilities: []string{sdk.CapabilityDeliversToURL},
	},
	Schema: sdk.Schema{
		sdk.String("region", "The AWS region of the topic, such as eu-west-1.", sdk.Required),
		sdk.String("access_key", "The AWS access key ID to sign requests with.", sdk.Required),
		sdk.String("secret_key", "The AWS secret access key to sign requests with.", sdk.Required, sdk.Sensitive),
		sdk.String("api_url", "SNS's endpoint; https://sns.REGION.amazonaws.com when unset."),
		sdk.String("topic_arn", "A template: the topic to publish to; one of topic_arn, phone_number and target_arn is needed."),
		sdk.String("phone_number", "A template: the phone number to send an SMS to, in E.164 format."),
		sdk.String("target_arn", "A template: the mobile endpoint to publish to."),
		sdk.String("subject", "A template: the subject, for email subscriptions.", sdk.Default(`{{ template "sns.default.subject" . }}`)),
		sdk.String("message", "A template: the message, cut to 256 KiB (1600 bytes for an SMS).", sdk.Default(`{{ template "sns.default.message" . }}`)),
		sdk.StringMap("attributes", "Templates: message attributes, each a string, by name."),
	},
	Notifier: func(cfg sdk.Config) (sdk.Notifier, error) { return newSNS(cfg) },
}

// snsNotifier publishes to one destination.
type snsNotifier struct {
	region, url                string
	creds                      aws.Credentials
	topicARN, phone, targetARN string
	subject, message           string
	attributes                 map[string]string
	templates                  *amnotify.Templates
}

func newSNS(cfg sdk.Config) (*snsNotifier, error) {
	s := &snsNotifier{
		region:   strings.TrimSpace(cfg.String("region")),
		creds:    aws.Credentials{AccessKeyID: strings.TrimSpace(cfg.String("access_key")), SecretAccessKey: strings.TrimSpace(cfg.String("secret_key"))},
		topicARN: cfg.String("topic_arn"), phone: cfg.String("phone_number"), targetARN: cfg.String("target_arn"),
		subject: cfg.String("subject"), message: cfg.String("message"), attributes: cfg.StringMap("attributes"),
	}
	if s.region == "" || strings.ContainsAny(s.region, " /:") {
		return nil, sdk.AttributeErrorf("region", "must be an AWS region, such as eu-west-1, not %q", s.region)
	}
	if s.creds.AccessKeyID == "" || strings.ContainsAny(s.creds.AccessKeyID, " \t\r\n") {
		return nil, sdk.AttributeErrorf("access_key", "must be an access key ID, without spaces")
	}
	// The secret key is a secret: errors never quote it.
	if s.creds.SecretAccessKey == "" || strings.ContainsAny(s.creds.SecretAccessKey, " \t\r\n") {
		return nil, sdk.AttributeErrorf("secret_key", "must be a secret access key, without spaces")
	}
	endpoint := strings.TrimSpace(cfg.String("api_url"))
	if endpoint == "" {
		endpoint = "https://sns." + s.region + ".amazonaws.com"
	}
	u, err := amnotify.CheckURL("api_url", endpoint, false)
	if err != nil {
		return nil, err
	}
	if u.Path == "" {
		u.Path = "/"
	}
	s.url = u.String()
	if strings.TrimSpace(s.topicARN+s.phone+s.targetARN) == "" {
		return nil, sdk.AttributeErrorf("topic_arn", "is empty, as are phone_number and target_arn: set one of them")
	}
	if s.templates, err = amnotify.New(); err != nil {
		return nil, err
	}
	for _, a := range []struct{ name, text string }{
		{"topic_arn", s.topicARN}, {"phone_number", s.phone}, {"target_arn", s.targetARN},
		{"subject", s.subject}, {"message", s.message},
	} {
		if err := s.templates.Check(a.name, a.text); err != nil {
			return nil, err
		}
	}
	for k, v := range s.attributes {
		if err := s.templates.Check("attributes", k, v); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// form renders n as the parameters of SNS's Publish action, as
// Alertmanager's SDK sends them.
func (s *snsNotifier) form(n *sdk.Notification) (url.Values, error) {
	r := s.templates.Render(n)
	v := url.Values{"Action": {"Publish"}, "Version": {"2010-03-31"}}
	attributes := map[string]string{}
	for k, text := range s.attributes {
		attributes[r.Text(k)] = r.Text(text)
	}
	limit := maxMessage
	if s.topicARN != "" {
		topic := r.Text(s.topicARN)
		v.Set("TopicArn", topic)
		if strings.HasSuffix(topic, ".fifo") {
			v.Set("MessageDeduplicationId", amnotify.Hash(n.GroupKey))
			v.Set("MessageGroupId", amnotify.Hash(n.GroupKey))
		}
	}
	if s.phone != "" {
		v.Set("PhoneNumber", r.Text(s.phone))
		limit = maxSMSMessage
	}
	if s.targetARN != "" {
		v.Set("TargetArn", r.Text(s.targetARN))
	}
	message := r.Text(s.message)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if !utf8.ValidString(message) {
		return nil, fmt.Errorf("the message is not UTF-8")
	}
	if len(message) > limit {
		// Cut as Alertmanager cuts, in bytes, and say so.
		message = message[:limit]
		attributes["truncated"] = "true"
	}
	v.Set("Message", message)
	names := make([]string, 0, len(attributes))
	for k := range attributes {
		names = append(names, k)
	}
	sort.Strings(names)
	for i, k := range names {
		prefix := fmt.Sprintf("MessageAttributes.entry.%d.", i+1)
		v.Set(prefix+"Name", k)
		v.Set(prefix+"Value.DataType", "String")
		v.Set(prefix+"Value.StringValue", attributes[k])
	}
	if s.subject != "" {
		v.Set("Subject", r.Text(s.subject))
	}
	return v, r.Err()
}

// Notify implements sdk.Notifier: it publishes the message with a request
// signed with Signature Version 4. An answer of 2xx is a delivery; 429,
// 5xx and failures to reach SNS are retryable; any other answer, and a
// host the plugin may not reach, are permanent.
func (s *snsNotifier) Notify(ctx context.Context, n *sdk.Notification) error {
	form, err := s.form(n)
	if err != nil {
		return sdk.Permanent(err)
	}
	body := form.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, strings.NewReader(body))
	if err != nil {
		return sdk.Permanent(fmt.Errorf("cannot make the request: %w", err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", amnotify.UserAgent)
	sum := sha256.Sum256([]byte(body))
	// The signer is made here rather than kept in the notifier: a value
	// of the notifier, held in an interface, would keep SignHTTP's types
	// and, through http.Request, crypto/x509's verification in the
	// module (see wasm.HTTPClient).
	if err := v4.NewSigner().SignHTTP(ctx, s.creds, req, hex.EncodeToString(sum[:]), "sns", s.region, time.Now().UTC()); err != nil {
		return sdk.Permanent(fmt.Errorf("cannot sign the request: %w", err))
	}
	return amnotify.Do("sns", req)
}
