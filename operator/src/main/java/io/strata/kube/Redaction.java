package io.strata.kube;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * URLs as status and Events may show them: without userinfo, query or fragment, where credentials
 * and presigned signatures travel. Status and Events are read by everyone who may read the object;
 * a LayerSet's author or a registry's redirect must not publish a secret there.
 */
public final class Redaction {
  private static final Pattern URL = Pattern.compile("\\b[A-Za-z][A-Za-z0-9+.-]*://[^\\s,;\"')]+");

  private Redaction() {}

  /** {@code text} with every URL in it redacted; null stays null. */
  public static String urls(String text) {
    if (text == null || !text.contains("://")) {
      return text;
    }
    Matcher m = URL.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(out, Matcher.quoteReplacement(url(m.group())));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** One URL: scheme, host, port and path; {@code ***@} for userinfo, {@code ?...} for the rest. */
  static String url(String url) {
    int scheme = url.indexOf("://") + 3;
    String rest = url.substring(scheme);
    int authorityEnd = rest.length();
    for (char c : new char[] {'/', '?', '#'}) {
      int at = rest.indexOf(c);
      if (at >= 0) {
        authorityEnd = Math.min(authorityEnd, at);
      }
    }
    String authority = rest.substring(0, authorityEnd);
    int userinfo = authority.lastIndexOf('@');
    return url.substring(0, scheme)
        + (userinfo >= 0 ? "***@" + authority.substring(userinfo + 1) : authority)
        + stripQuery(rest.substring(authorityEnd));
  }

  private static String stripQuery(String url) {
    int cut = url.length();
    for (char c : new char[] {'?', '#'}) {
      int at = url.indexOf(c);
      if (at >= 0) {
        cut = Math.min(cut, at);
      }
    }
    return cut == url.length() ? url : url.substring(0, cut) + "?...";
  }
}
