package io.strata.testing;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.Map;

/**
 * JSON as a Lua 5.1 table constructor, the way Argo CD hands an object to a health script as {@code
 * obj}: objects become tables keyed by string, arrays tables indexed from 1, null nil.
 */
public final class LuaValues {
  private LuaValues() {}

  public static String of(JsonNode value) {
    StringBuilder out = new StringBuilder();
    append(out, value);
    return out.toString();
  }

  private static void append(StringBuilder out, JsonNode value) {
    if (value == null || value.isNull() || value.isMissingNode()) {
      out.append("nil");
    } else if (value.isObject()) {
      out.append('{');
      for (Iterator<Map.Entry<String, JsonNode>> fields = value.fields(); fields.hasNext(); ) {
        Map.Entry<String, JsonNode> field = fields.next();
        out.append('[').append(string(field.getKey())).append("]=");
        append(out, field.getValue());
        out.append(',');
      }
      out.append('}');
    } else if (value.isArray()) {
      out.append('{');
      for (JsonNode element : value) {
        append(out, element);
        out.append(',');
      }
      out.append('}');
    } else if (value.isBoolean()) {
      out.append(value.booleanValue());
    } else if (value.isNumber()) {
      out.append(value.numberValue());
    } else {
      out.append(string(value.asText()));
    }
  }

  /** A Lua string literal: quotes, backslashes and every control byte escaped as \ddd. */
  public static String string(String text) {
    StringBuilder out = new StringBuilder("\"");
    for (byte b : text.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if (c == '"' || c == '\\') {
        out.append('\\').append((char) c);
      } else if (c < 0x20 || c == 0x7f) {
        out.append(String.format("\\%03d", c));
      } else if (c < 0x80) {
        out.append((char) c);
      } else {
        out.append(String.format("\\%03d", c)); // UTF-8 bytes, as Lua strings hold them
      }
    }
    return out.append('"').toString();
  }
}
