// The learning-rate lab (to be written).
export function mount(root) {
  root.append(document.createTextNode("learning-rate lab"));
}
