package io.strata.kube;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RedactionTest {
  @Test
  void credentialsAndQueriesNeverReachAMessage() {
    assertThat(
            Redaction.urls(
                "fetching https://alice:s3cret@files.example:8443/l.tar.gz?X-Amz-Signature=abc"
                    + " failed: https://bucket.example/blob?sig=xyz#frag answered HTTP 403"))
        .isEqualTo(
            "fetching https://***@files.example:8443/l.tar.gz?... failed:"
                + " https://bucket.example/blob?... answered HTTP 403");
  }

  @Test
  void plainUrlsAndTextWithoutUrlsStayAsTheyAre() {
    assertThat(Redaction.urls("file:///var/lib/layers/a.tar is not a readable file"))
        .isEqualTo("file:///var/lib/layers/a.tar is not a readable file");
    assertThat(Redaction.urls("http://127.0.0.1:5000/v2/app/blobs/sha256:ab answered HTTP 404"))
        .isEqualTo("http://127.0.0.1:5000/v2/app/blobs/sha256:ab answered HTTP 404");
    assertThat(Redaction.urls("no URL here")).isEqualTo("no URL here");
    assertThat(Redaction.urls(null)).isNull();
  }

  @Test
  void aUrlJavaWouldNotParseIsStillRedacted() {
    assertThat(Redaction.urls("see https://bob:pw@host/a|b?token=1"))
        .isEqualTo("see https://***@host/a|b?...");
  }
}
