package openapi

import "testing"

func BenchmarkBuildV2(b *testing.B) {
	for b.Loop() {
		bld, err := New(testResources())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := bld.V2(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildV3(b *testing.B) {
	for b.Loop() {
		bld, err := New(testResources())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := bld.V3("apis/apps/v1"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkV2Proto(b *testing.B) {
	for b.Loop() {
		bld, err := New(testResources())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := bld.V2Proto(); err != nil {
			b.Fatal(err)
		}
	}
}
