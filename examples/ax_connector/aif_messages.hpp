// AIF messages of the sales order document service of Dynamics AX 2012.
// This file builds the SOAP 1.1 envelopes for read and create and the
// replies a server sends. It also turns a reply into a result, or into an
// error code that mend's classifiers understand.
//
// The XML handling is not an XML parser. It finds the few elements the
// connector needs by their local name, whatever their prefix, in replies
// that are well-formed. That is enough to tell a document from a SOAP fault.
#ifndef AX_CONNECTOR_AIF_MESSAGES_HPP
#define AX_CONNECTOR_AIF_MESSAGES_HPP

#include <mend/adapters/http_connection.hpp>
#include <mend/error.hpp>
#include <mend/result.hpp>

#include <fmt/format.h>

#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace ax {

// The XML namespaces of AIF 2012 (AX 2012) document services.
namespace ns {
inline constexpr std::string_view soap_envelope = "http://schemas.xmlsoap.org/soap/envelope/";
inline constexpr std::string_view call_context = "http://schemas.microsoft.com/dynamics/2010/01/datacontracts";
inline constexpr std::string_view services = "http://schemas.microsoft.com/dynamics/2008/01/services";
inline constexpr std::string_view sales_order = "http://schemas.microsoft.com/dynamics/2008/01/documents/SalesOrder";
inline constexpr std::string_view entity_key_list =
    "http://schemas.microsoft.com/dynamics/2006/02/documents/EntityKeyList";
inline constexpr std::string_view entity_key = "http://schemas.microsoft.com/dynamics/2006/02/documents/EntityKey";
inline constexpr std::string_view aif_fault = "http://schemas.microsoft.com/dynamics/2008/01/documents/Fault";
inline constexpr std::string_view wcf_dispatcher =
    "http://schemas.microsoft.com/net/2005/12/windowscommunicationfoundation/dispatcher";
}  // namespace ns

// The URL path of the sales order service on an AIF HTTP port hosted by IIS.
inline constexpr std::string_view sales_order_service_path = "/MicrosoftDynamicsAXAif60/SalesOrderService/xppservice.svc";

// The service operations the connector calls.
enum class aif_operation { read, create };

inline std::string_view to_string(aif_operation operation) noexcept {
  return operation == aif_operation::read ? "read" : "create";
}

// The SOAPAction of an operation, e.g. ".../SalesOrderService/read".
inline std::string soap_action(aif_operation operation) {
  return fmt::format("{}/SalesOrderService/{}", ns::services, to_string(operation));
}

// Faults that an AIF server reports in a SOAP fault, as error codes of the
// "ax.aif" category.
enum class aif_errc {
  // AIF rejected the request (an AifFault detail or a Client fault code),
  // e.g. an unknown sales order: the same request fails again anywhere.
  business_fault = 1,
  // The service failed while processing (e.g. WCF's InternalServiceFault):
  // another attempt, on this or another AOS, may succeed.
  server_fault,
};

class aif_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "ax.aif"; }
  std::string message(int value) const override {
    switch (static_cast<aif_errc>(value)) {
      case aif_errc::business_fault: return "AIF rejected the request (SOAP fault)";
      case aif_errc::server_fault: return "AIF server fault (SOAP fault)";
    }
    return "unknown AIF error " + std::to_string(value);
  }
};

inline const std::error_category& aif_error_category() noexcept {
  static const aif_category category;
  return category;
}

inline std::error_code make_error_code(aif_errc value) noexcept {
  return {static_cast<int>(value), aif_error_category()};
}

}  // namespace ax

template <>
struct std::is_error_code_enum<ax::aif_errc> : std::true_type {};

namespace ax {

// --- XML helpers ----------------------------------------------------------

// Escapes text for an XML element or attribute value.
inline std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

// Replaces the five predefined XML entities; other references stay as they are.
inline std::string xml_unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '&') {
      static constexpr std::pair<std::string_view, char> entities[] = {
          {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
      bool replaced = false;
      for (const auto& [entity, c] : entities) {
        if (text.substr(i, entity.size()) == entity) {
          out += c;
          i += entity.size() - 1;
          replaced = true;
          break;
        }
      }
      if (replaced) continue;
    }
    out += text[i];
  }
  return out;
}

// An element found by xml_element(): its qualified name and its content.
struct xml_found {
  std::string_view qualified_name;  // e.g. "s:Fault"
  std::string_view content;         // between the start and the end tag; empty for <x/>
};

// Finds the first element whose local name is `local_name` (with any prefix
// or none) and returns its content up to the matching end tag. Nested
// elements of the same name are not supported, which AIF replies do not have
// for the names asked here.
inline std::optional<xml_found> xml_element(std::string_view xml, std::string_view local_name) {
  for (std::size_t pos = xml.find('<'); pos != std::string_view::npos; pos = xml.find('<', pos + 1)) {
    std::size_t name_end = pos + 1;
    while (name_end < xml.size() && xml[name_end] != '>' && xml[name_end] != '/' && xml[name_end] != ' ' &&
           xml[name_end] != '\t' && xml[name_end] != '\r' && xml[name_end] != '\n')
      ++name_end;
    const auto qualified = xml.substr(pos + 1, name_end - pos - 1);
    if (qualified.empty() || qualified.front() == '/' || qualified.front() == '?' || qualified.front() == '!') continue;
    const auto colon = qualified.find(':');
    const auto local = colon == std::string_view::npos ? qualified : qualified.substr(colon + 1);
    if (local != local_name) continue;

    const auto tag_end = xml.find('>', name_end);
    if (tag_end == std::string_view::npos) return std::nullopt;
    if (xml[tag_end - 1] == '/') return xml_found{qualified, {}};
    const std::string end_tag = fmt::format("</{}>", qualified);
    const auto close = xml.find(end_tag, tag_end + 1);
    if (close == std::string_view::npos) return std::nullopt;
    return xml_found{qualified, xml.substr(tag_end + 1, close - tag_end - 1)};
  }
  return std::nullopt;
}

// Returns the unescaped text of the first element named `local_name`, or
// nullopt when there is none.
inline std::optional<std::string> xml_text(std::string_view xml, std::string_view local_name) {
  const auto found = xml_element(xml, local_name);
  if (!found) return std::nullopt;
  return xml_unescape(found->content);
}

// --- requests -------------------------------------------------------------

// One sales order request as the workload issues it.
struct aif_request {
  aif_operation operation = aif_operation::read;
  std::string company;      // the AX company (DataAreaId), e.g. "USMF"
  std::string message_id;   // one per request, the same on every attempt
  std::string sales_id;     // read: the order to read
  std::string customer;     // create: the customer account
  std::string item;         // create: the item of the single order line
  int quantity = 1;         // create
  std::string purchase_order;  // create: the customer's reference
};

inline std::string soap_envelope(const aif_request& request, std::string_view body) {
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
      "<s:Envelope xmlns:s=\"{}\">\n"
      "  <s:Header>\n"
      "    <h:CallContext xmlns:h=\"{}\">\n"
      "      <h:Company>{}</h:Company>\n"
      "      <h:Language>en-us</h:Language>\n"
      "      <h:MessageId>{}</h:MessageId>\n"
      "    </h:CallContext>\n"
      "  </s:Header>\n"
      "  <s:Body>\n{}  </s:Body>\n"
      "</s:Envelope>\n",
      ns::soap_envelope, ns::call_context, xml_escape(request.company), xml_escape(request.message_id), body);
}

// The SOAP envelope of `request`, ready to POST with soap_action().
inline std::string soap_request_body(const aif_request& request) {
  if (request.operation == aif_operation::read) {
    return soap_envelope(
        request,
        fmt::format("    <SalesOrderServiceReadRequest xmlns=\"{}\">\n"
                    "      <EntityKeyList xmlns=\"{}\">\n"
                    "        <EntityKey xmlns=\"{}\">\n"
                    "          <KeyData>\n"
                    "            <KeyField><Field>SalesId</Field><Value>{}</Value></KeyField>\n"
                    "          </KeyData>\n"
                    "        </EntityKey>\n"
                    "      </EntityKeyList>\n"
                    "    </SalesOrderServiceReadRequest>\n",
                    ns::services, ns::entity_key_list, ns::entity_key, xml_escape(request.sales_id)));
  }
  return soap_envelope(
      request,
      fmt::format("    <SalesOrderServiceCreateRequest xmlns=\"{}\">\n"
                  "      <SalesOrder xmlns=\"{}\">\n"
                  "        <SalesTable class=\"entity\">\n"
                  "          <CustAccount>{}</CustAccount>\n"
                  "          <PurchOrderFormNum>{}</PurchOrderFormNum>\n"
                  "          <SalesLine class=\"entity\">\n"
                  "            <ItemId>{}</ItemId>\n"
                  "            <SalesQty>{}</SalesQty>\n"
                  "          </SalesLine>\n"
                  "        </SalesTable>\n"
                  "      </SalesOrder>\n"
                  "    </SalesOrderServiceCreateRequest>\n",
                  ns::services, ns::sales_order, xml_escape(request.customer), xml_escape(request.purchase_order),
                  xml_escape(request.item), request.quantity));
}

// --- replies --------------------------------------------------------------

// The sales order that a successful read or create returned.
struct aif_reply {
  std::string sales_id;
  std::string endpoint;  // the AOS that sent the reply
};

// A SOAP fault as read from a reply body.
struct soap_fault {
  std::string code;     // faultcode, e.g. "s:Client" or "a:InternalServiceFault"
  std::string message;  // the first AIF fault message, else faultstring
  bool aif_fault = false;  // the detail is an AifFault document
};

// Returns the SOAP fault in `body`, or nullopt when the body is not a SOAP
// envelope with a Fault in its Body.
inline std::optional<soap_fault> find_soap_fault(std::string_view body) {
  const auto envelope = xml_element(body, "Envelope");
  if (!envelope) return std::nullopt;
  const auto soap_body = xml_element(envelope->content, "Body");
  if (!soap_body) return std::nullopt;
  const auto fault = xml_element(soap_body->content, "Fault");
  if (!fault) return std::nullopt;

  soap_fault out;
  out.code = xml_text(fault->content, "faultcode").value_or("");
  out.message = xml_text(fault->content, "faultstring").value_or("");
  if (const auto detail = xml_element(fault->content, "AifFault")) {
    out.aif_fault = true;
    if (auto message = xml_text(detail->content, "Message"); message && !message->empty()) out.message = *message;
  }
  return out;
}

// The error code of a fault: AifFault details and Client fault codes are the
// request's fault; everything else is the server's.
inline std::error_code fault_error(const soap_fault& fault) {
  const auto colon = fault.code.find(':');
  const std::string_view local =
      colon == std::string::npos ? std::string_view{fault.code} : std::string_view{fault.code}.substr(colon + 1);
  if (fault.aif_fault || local == "Client") return aif_errc::business_fault;
  return aif_errc::server_fault;
}

// The outcome of one HTTP exchange, read as AIF: the reply, or an error and a
// one-line detail for logs (the fault's message, the HTTP status).
struct classified_reply {
  mend::result<aif_reply> reply;
  std::string detail;
};

// [snippet:classify]
// Reads an HTTP response of the sales order service. A SOAP fault becomes an
// ax.aif error, whatever the status (AIF sends faults with HTTP 500, as
// SOAP 1.1 requires). Any other 4xx or 5xx becomes mend::http_error(status,
// Retry-After), which mend::is_transient() classifies. A 2xx body without
// the expected response element is a protocol error.
inline classified_reply classify_response(const mend::http_response& response, aif_operation operation,
                                          mend::wall_time now) {
  if (const auto fault = find_soap_fault(response.body)) {
    return {fault_error(*fault), fmt::format("SOAP fault {}: {}", fault->code, fault->message)};
  }
  if (const auto status_error = response.status_error(now)) {
    return {status_error, status_error.message()};
  }
  const auto element = operation == aif_operation::read ? "SalesOrderServiceReadResponse" : "SalesOrderServiceCreateResponse";
  const auto document = xml_element(response.body, element);
  const auto sales_id = document ? xml_text(document->content, operation == aif_operation::read ? "SalesId" : "Value")
                                 : std::nullopt;
  if (!sales_id) {
    return {mend::make_error_code(mend::errc::protocol_error),
            fmt::format("HTTP {} without a {} element", response.status, element)};
  }
  return {aif_reply{*sales_id, {}}, {}};
}
// [/snippet]

}  // namespace ax

#endif  // AX_CONNECTOR_AIF_MESSAGES_HPP
