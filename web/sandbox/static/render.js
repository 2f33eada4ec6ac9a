// Draws platform message JSON the way the LINE and Messenger apps roughly show it.
// Everything is built with DOM calls and textContent: message text comes from the
// service and from people, so nothing here is ever parsed as HTML.
(function () {
  "use strict";

  const SAFE_URL = /^(https?:|tel:|\/)/i;
  const COLOR = /^#[0-9a-f]{6}([0-9a-f]{2})?$/i;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function image(url, className) {
    const img = el("img", className);
    if (typeof url === "string" && SAFE_URL.test(url)) img.src = url;
    img.alt = "";
    img.loading = "lazy";
    return img;
  }

  function button(label, action, ctx, className) {
    const node = el("button", className || "action", label || "（無標籤）");
    node.type = "button";
    if (action) {
      node.addEventListener("click", () => ctx.onAction(action));
    } else {
      node.disabled = true;
    }
    return node;
  }

  // LINE action object -> what the page does when it is tapped.
  function lineAction(action) {
    if (!action) return null;
    switch (action.type) {
      case "postback":
      case "datetimepicker":
        return {
          kind: "postback", data: action.data, label: action.label,
          displayText: action.displayText || action.text || null,
        };
      case "message": return { kind: "say", text: action.text };
      case "uri": return { kind: "open", url: action.uri };
      case "camera":
      case "cameraRoll": return { kind: "image" };
      default: return null;
    }
  }

  function messengerButton(spec) {
    switch (spec.type) {
      case "postback": return { kind: "postback", data: spec.payload, label: spec.title };
      case "web_url": return { kind: "open", url: spec.url };
      case "phone_number": return { kind: "open", url: "tel:" + spec.payload };
      default: return null;
    }
  }

  function card(parts, ctx) {
    const box = el("div", "card");
    if (parts.image) box.append(image(parts.image, "card-image"));
    if (parts.title) box.append(el("strong", "card-title", parts.title));
    if (parts.text) box.append(el("p", "card-text", parts.text));
    const actions = el("div", parts.row ? "card-actions row" : "card-actions");
    for (const [label, action] of parts.actions || []) actions.append(button(label, action, ctx));
    box.append(actions);
    return box;
  }

  function lineTemplate(template, ctx) {
    const actions = (list) => (list || []).map((a) => [a.label, lineAction(a)]);
    if (template.type === "buttons") {
      return card({
        image: template.thumbnailImageUrl, title: template.title, text: template.text,
        actions: actions(template.actions),
      }, ctx);
    }
    if (template.type === "confirm") {
      return card({ text: template.text, actions: actions(template.actions), row: true }, ctx);
    }
    if (template.type === "carousel") {
      const row = el("div", "carousel");
      for (const column of template.columns || []) {
        row.append(card({
          image: column.thumbnailImageUrl, title: column.title, text: column.text,
          actions: actions(column.actions),
        }, ctx));
      }
      return row;
    }
    return el("div", "bubble", "[不支援的範本] " + template.type);
  }

  function flexStyle(node, component) {
    if (COLOR.test(component.backgroundColor || "")) node.style.backgroundColor = component.backgroundColor;
    if (COLOR.test(component.color || "")) node.style.color = component.color;
    if (component.flex !== undefined && Number.isFinite(component.flex)) node.style.flex = String(component.flex);
  }

  function flexNode(component, ctx) {
    if (!component || typeof component !== "object") return el("span");
    let node;
    switch (component.type) {
      case "bubble": {
        node = el("div", "flex-bubble");
        for (const section of ["header", "hero", "body", "footer"]) {
          if (!component[section]) continue;
          const part = el("div", "flex-section flex-" + section);
          const styles = (component.styles || {})[section] || {};
          if (COLOR.test(styles.backgroundColor || "")) part.style.backgroundColor = styles.backgroundColor;
          part.append(flexNode(component[section], ctx));
          node.append(part);
        }
        return node;
      }
      case "carousel":
        node = el("div", "carousel");
        for (const bubble of component.contents || []) node.append(flexNode(bubble, ctx));
        return node;
      case "box":
        node = el("div", "flex-box flex-" + (component.layout || "vertical"));
        for (const child of component.contents || []) node.append(flexNode(child, ctx));
        break;
      case "text": {
        const text = component.text || (component.contents || []).map((s) => s.text || "").join("");
        node = el("div", "flex-text size-" + (component.size || "md"), text);
        if (component.weight === "bold") node.classList.add("bold");
        if (component.align) node.style.textAlign = component.align === "end" ? "right" : component.align;
        break;
      }
      case "button":
        node = button(component.action && component.action.label, lineAction(component.action),
          ctx, "action flex-button " + (component.style || "link"));
        flexStyle(node, component);
        return node;
      case "image":
        node = image(component.url, "flex-image");
        break;
      case "separator":
        node = el("hr", "flex-separator");
        break;
      case "filler":
      case "spacer":
        node = el("div", "flex-spacer");
        break;
      default:
        node = el("span");
    }
    flexStyle(node, component);
    if (component.action && component.type !== "button") {
      const action = lineAction(component.action);
      if (action) {
        node.classList.add("tappable");
        node.addEventListener("click", () => ctx.onAction(action));
      }
    }
    return node;
  }

  function line(message, ctx) {
    switch (message.type) {
      case "text":
      case "textV2": return el("div", "bubble", message.text);
      case "image": return image(message.previewImageUrl || message.originalContentUrl, "photo");
      case "sticker": return el("div", "sticker", "貼圖 " + message.packageId + "/" + message.stickerId);
      case "template": return lineTemplate(message.template || {}, ctx);
      case "flex": return flexNode(message.contents, ctx);
      default: return el("div", "bubble", "[" + message.type + "]");
    }
  }

  function messenger(message, ctx) {
    if (message.text !== undefined) return el("div", "bubble", message.text);
    const attachment = message.attachment || {};
    const payload = attachment.payload || {};
    if (attachment.type === "image") return image(payload.url, "photo");
    if (payload.template_type === "button") {
      return card({
        text: payload.text,
        actions: (payload.buttons || []).map((b) => [b.title, messengerButton(b)]),
      }, ctx);
    }
    if (payload.template_type === "generic") {
      const row = el("div", "carousel");
      for (const item of payload.elements || []) {
        row.append(card({
          image: item.image_url, title: item.title, text: item.subtitle,
          actions: (item.buttons || []).map((b) => [b.title, messengerButton(b)]),
        }, ctx));
      }
      return row;
    }
    return el("div", "bubble", "[附件] " + (attachment.type || "?"));
  }

  // What the person at this page sent: a compact record kept by the emulator.
  function inbound(record, ctx) {
    switch (record.kind) {
      case "text": return el("div", "bubble", record.text);
      case "quick_reply": return el("div", "bubble", record.text);
      case "image": return image(ctx.mediaUrl(record.media_id), "photo");
      case "sticker": return el("div", "sticker", "貼圖 " + record.package_id + "/" + record.sticker_id);
      case "postback":
        return record.display_text
          ? el("div", "bubble", record.display_text)
          : el("div", "note", "已點選「" + (record.label || record.data) + "」");
      case "follow": return el("div", "note", "已加入好友");
      case "unfollow": return el("div", "note", "已封鎖此帳號");
      case "referral": return el("div", "note", "從連結開啟對話（ref: " + record.ref + "）");
      default: return el("div", "note", record.kind);
    }
  }

  // Quick replies of a shop message, as [label, action] pairs (empty if none).
  function quickReplies(channel, message) {
    if (channel === "line") {
      const items = (message.quickReply || {}).items || [];
      return items.map((item) => [item.action && item.action.label, lineAction(item.action)]);
    }
    return (message.quick_replies || []).map((reply) => [
      reply.title || reply.content_type,
      reply.content_type === "text" ? { kind: "quick", data: reply.payload, label: reply.title } : null,
    ]);
  }

  window.SandboxRender = { line, messenger, inbound, quickReplies, button, el };
})();
