package io.strata.crd;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** A reference by name to an object of a kind the referring field fixes. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NameReference {
  @Required
  @Size(min = 1, max = 253)
  @Pattern(StrataApi.DNS_SUBDOMAIN)
  public String name;

  public NameReference() {}

  public NameReference(String name) {
    this.name = name;
  }
}
