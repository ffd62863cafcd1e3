package io.strata.fetch;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * The one way Strata builds an HTTP client for the outside world: the system trust store plus an
 * optional PEM CA bundle, proxies from the environment. It follows no redirect: every request goes
 * through {@link Destinations#send}, which follows them and checks each hop.
 */
public final class HttpClients {
  private HttpClients() {}

  /** What the admin configures about the network: an extra CA bundle and the environment. */
  public record Network(Path caBundle, Map<String, String> environment) {
    public static Network system() {
      return new Network(null, System.getenv());
    }
  }

  public static HttpClient create(Network network, Duration connectTimeout) throws IOException {
    HttpClient.Builder builder =
        HttpClient.newBuilder()
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(connectTimeout);
    EnvironmentProxies proxies = new EnvironmentProxies(network.environment());
    if (proxies.configured()) {
      builder.proxy(proxies);
    }
    if (network.caBundle() != null) {
      builder.sslContext(trusting(network.caBundle()));
    }
    return builder.build();
  }

  /** TLS that trusts the system's CAs and every certificate in {@code bundle}. */
  static SSLContext trusting(Path bundle) throws IOException {
    try {
      Collection<? extends Certificate> certificates;
      try (InputStream in = Files.newInputStream(bundle)) {
        certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
      }
      if (certificates.isEmpty()) {
        throw new IOException("CA bundle " + bundle + " holds no PEM certificate");
      }
      KeyStore extra = KeyStore.getInstance(KeyStore.getDefaultType());
      extra.load(null, null);
      int i = 0;
      for (Certificate certificate : certificates) {
        extra.setCertificateEntry("ca-" + i++, certificate);
      }
      List<X509TrustManager> managers = new ArrayList<>();
      managers.add(trustManager(null)); // the JDK's (system) trust store
      managers.add(trustManager(extra));
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, new TrustManager[] {new EitherTrustManager(managers)}, null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IOException("CA bundle " + bundle + ": " + e.getMessage(), e);
    }
  }

  private static X509TrustManager trustManager(KeyStore store) throws GeneralSecurityException {
    TrustManagerFactory factory =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(store);
    for (TrustManager manager : factory.getTrustManagers()) {
      if (manager instanceof X509TrustManager x509) {
        return x509;
      }
    }
    throw new GeneralSecurityException("no X.509 trust manager");
  }

  /** Trusts a chain when any of its managers does. */
  private record EitherTrustManager(List<X509TrustManager> managers) implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException("Strata does not accept client certificates");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      CertificateException last = null;
      for (X509TrustManager manager : managers) {
        try {
          manager.checkServerTrusted(chain, authType);
          return;
        } catch (CertificateException e) {
          last = e;
        }
      }
      throw last;
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return managers.stream()
          .flatMap(m -> Arrays.stream(m.getAcceptedIssuers()))
          .toArray(X509Certificate[]::new);
    }
  }
}
