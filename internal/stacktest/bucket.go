package stacktest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	miniogo "github.com/minio/minio-go/v7"

	"github.com/photobench/photobench/internal/minio"
)

// FreshBucket returns the name of a bucket of the stack's MinIO that does
// not exist yet (prefix, then random hex; prefix must make a valid bucket
// name), and removes it and everything in it when the test ends. Whoever
// uses it creates it, so each test has a bucket of its own.
func FreshBucket(t testing.TB, env Env, prefix string) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	name := prefix + hex.EncodeToString(b)
	client := bucketClient(t, env)
	t.Cleanup(func() {
		ctx := context.Background()
		if ok, err := client.BucketExists(ctx, name); err != nil || !ok {
			if err != nil {
				t.Errorf("remove bucket %s: %v", name, err)
			}
			return
		}
		for _, key := range Objects(t, env, name) {
			if err := client.RemoveObject(ctx, name, key, miniogo.RemoveObjectOptions{}); err != nil {
				t.Errorf("remove bucket %s: %v", name, err)
			}
		}
		if err := client.RemoveBucket(ctx, name); err != nil {
			t.Errorf("remove bucket %s: %v", name, err)
		}
	})
	return name
}

// Objects lists the keys of every object in bucket of the stack's MinIO.
func Objects(t testing.TB, env Env, bucket string) []string {
	t.Helper()
	var keys []string
	for o := range bucketClient(t, env).ListObjects(context.Background(), bucket, miniogo.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatalf("list bucket %s: %v", bucket, o.Err)
		}
		keys = append(keys, o.Key)
	}
	return keys
}

func bucketClient(t testing.TB, env Env) *miniogo.Client {
	t.Helper()
	client, err := minio.New(env.S3Endpoint, env.S3AccessKey, env.S3SecretKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	return client
}
